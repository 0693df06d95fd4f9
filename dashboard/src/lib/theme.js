// Light, dark, or the system's (prefers-color-scheme). The choice is the
// only thing the dashboard keeps in localStorage.
import { useEffect, useState } from 'preact/hooks';

const KEY = 'fn0-theme';
const subscribers = new Set();

function stored() {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

let choice = stored();

function systemDark() {
  return matchMedia('(prefers-color-scheme: dark)').matches;
}

// The theme in effect: 'light' or 'dark'.
export function effectiveTheme() {
  return choice === 'system' ? (systemDark() ? 'dark' : 'light') : choice;
}

function apply() {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  for (const fn of subscribers) fn(effectiveTheme());
}

export function setTheme(next) {
  choice = next;
  try {
    if (next === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
  } catch {
    /* storage refused (private mode): the choice lasts for this page */
  }
  apply();
}

export function themeChoice() {
  return choice;
}

export function initTheme() {
  apply();
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', apply);
}

// Re-renders on a theme change (charts read their colours from CSS).
export function useTheme() {
  const [theme, setT] = useState(effectiveTheme);
  useEffect(() => {
    subscribers.add(setT);
    return () => subscribers.delete(setT);
  }, []);
  return theme;
}
