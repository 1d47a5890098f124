/** The theme choice: light, dark, or the system's (prefers-color-scheme); kept locally as a preference. */

/** A theme choice. */
export type Theme = 'system' | 'light' | 'dark';

const KEY = 'binnacle.theme';

/** The stored choice (`system` when none or when storage is unavailable). */
export function storedTheme(): Theme {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** Stores a choice and applies it to the document. */
export function setTheme(theme: Theme): void {
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  applyTheme(theme);
}

/** Applies a choice to the document (`data-theme` on `<html>`; none follows the system). */
export function applyTheme(theme: Theme = storedTheme()): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}
