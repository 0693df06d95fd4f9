// A modal dialog on the native <dialog>: showModal() makes the rest of the
// page inert and Escape closes it; focus goes to the first field on open
// and back to what had it on close.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';

export function Dialog({ open, title, onClose, children, id = 'dialog' }) {
  const ref = useRef(null);
  const opener = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      const first = d.querySelector('input, select, textarea, button:not(.dialog-close)');
      if (first) first.focus();
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);
  useEffect(() => {
    const d = ref.current;
    const onCancel = (e) => {
      e.preventDefault();
      onClose();
    };
    const onClosed = () => {
      const o = opener.current;
      opener.current = null;
      if (o && o.isConnected && typeof o.focus === 'function') o.focus();
    };
    d.addEventListener('cancel', onCancel);
    d.addEventListener('close', onClosed);
    return () => {
      d.removeEventListener('cancel', onCancel);
      d.removeEventListener('close', onClosed);
    };
  }, [onClose]);
  return html`<dialog ref=${ref} class="dialog" aria-labelledby=${`${id}-title`}>
    <header class="dialog-head">
      <h2 id=${`${id}-title`}>${title}</h2>
      <button type="button" class="btn btn-ghost dialog-close" aria-label="Close" onClick=${onClose}>✕</button>
    </header>
    ${open && children}
  </dialog>`;
}
