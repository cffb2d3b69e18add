// Form checks that mirror the API's rules: limits come from the inputs'
// own attributes (required, minlength, maxlength, data-list, data-item-max),
// and errors sit next to their field, whether found here or by the API (its
// 400 messages start with the field's name, e.g. "product_info.name must...").
import { $, $$ } from './dom.js';

export function lines(text) {
  return text.split('\n').map((s) => s.trim()).filter(Boolean);
}

export function clearErrors(form) {
  for (const p of $$('[data-error-for]', form)) p.textContent = '';
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
}

export function showError(form, field, msg) {
  const p = $(`[data-error-for="${CSS.escape(field)}"]`, form);
  const input = $(`[data-field="${CSS.escape(field)}"]`, form);
  if (input) input.setAttribute('aria-invalid', 'true');
  if (p) {
    p.textContent = msg;
    return p;
  }
  return null;
}

// Checks one field; returns a message or ''.
function checkField(el) {
  const label = el.labels && el.labels[0] ? el.labels[0].firstChild.textContent.trim() : el.dataset.field;
  if (el.tagName === 'SELECT' && el.multiple) {
    const n = el.selectedOptions.length;
    if (el.required && n === 0) return `${label}: pick at least one`;
    if (n > 20) return `${label}: at most 20`;
    return '';
  }
  if (el.dataset.list) {
    const items = lines(el.value);
    if (items.length > Number(el.dataset.list)) return `${label}: at most ${el.dataset.list} lines`;
    const max = Number(el.dataset.itemMax || 200);
    if (items.some((s) => [...s].length > max)) return `${label}: each line at most ${max} characters`;
    return '';
  }
  const v = el.value.trim();
  const len = [...v].length;
  if (el.required && len === 0) return `${label} is required`;
  const min = el.getAttribute('minlength');
  const max = el.getAttribute('maxlength');
  if (len > 0 && min && len < Number(min)) return `${label}: at least ${min} characters (now ${len})`;
  if (max && len > Number(max)) return `${label}: at most ${max} characters`;
  return '';
}

// Validates every [data-field] in the form; focuses the first bad one.
export function validate(form) {
  clearErrors(form);
  let first = null;
  for (const el of $$('input[data-field], textarea[data-field], select[data-field]', form)) {
    const msg = checkField(el);
    if (msg) {
      showError(form, el.dataset.field, msg);
      if (!first) first = el;
    }
  }
  if (first) first.focus();
  return first === null;
}

// Puts an API 400 message next to the field it names; falls back to the
// form-wide slot.
export function showApiError(form, message, fallbackField = 'form') {
  const fields = $$('[data-field]', form).map((el) => el.dataset.field).sort((a, b) => b.length - a.length);
  const hit = fields.find((f) => message.startsWith(f) || message.startsWith(f.split('.').pop()));
  const field = hit || fallbackField;
  showError(form, field, message);
  const input = hit && $(`[data-field="${CSS.escape(hit)}"]`, form);
  if (input && input.focus) input.focus();
  return field;
}
