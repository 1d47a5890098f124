/** The theme button: system → light → dark → system. */
import { useState } from 'react';
import { type Theme, setTheme, storedTheme } from '../lib/theme';

const NEXT: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };

/** The theme button. */
export function ThemeToggle() {
  const [theme, set] = useState<Theme>(storedTheme);
  function next() {
    const t = NEXT[theme];
    setTheme(t);
    set(t);
  }
  return (
    <button type="button" className="btn btn-small theme-toggle" onClick={next} aria-label={`Theme: ${theme}. Switch to ${NEXT[theme]}`}>
      Theme: {theme}
    </button>
  );
}
