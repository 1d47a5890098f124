/** The admin area: tabs for users, integrations, audit and usage. */
import { Link } from '../../components/Link';
import type { AdminTab } from '../../lib/router';
import { AuditPage } from './AuditPage';
import { IntegrationsPage } from './IntegrationsPage';
import { UsagePage } from './UsagePage';
import { UsersPage } from './UsersPage';

const TABS: { tab: AdminTab; label: string }[] = [
  { tab: 'users', label: 'Users' },
  { tab: 'integrations', label: 'Integrations' },
  { tab: 'audit', label: 'Audit log' },
  { tab: 'usage', label: 'Usage' },
];

/** The admin page at `tab`. */
export function AdminPage({ tab }: { tab: AdminTab }) {
  return (
    <div className="page admin">
      <h1>Administration</h1>
      <nav className="tabs" aria-label="Administration">
        {TABS.map((t) => (
          <Link key={t.tab} href={`/admin/${t.tab}`} aria-current={t.tab === tab ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      {tab === 'users' && <UsersPage />}
      {tab === 'integrations' && <IntegrationsPage />}
      {tab === 'audit' && <AuditPage />}
      {tab === 'usage' && <UsagePage />}
    </div>
  );
}
