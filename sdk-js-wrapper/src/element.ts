/**
 * Element descriptions: what a click or a form submit tells the backend about its target
 * (`docs/events.md`, "Element description"). Built from tag, attributes and visible text only;
 * input values are never read, and `data-vv-ignore` hides an element and everything inside it.
 */

import { MAX_TEXT, scrubHref, scrubText } from './scrub';

/** A form input as the backend sees it: its type and name, never its value. */
export interface FieldDescription {
  type: string;
  name?: string;
}

/** The wire shape of an element; absent attributes are left out rather than sent as null. */
export interface ElementDescription {
  tag: string;
  text?: string;
  aria_label?: string;
  role?: string;
  type?: string;
  href?: string;
  id?: string;
  name?: string;
  fields?: FieldDescription[];
}

/** What counts as interactive for click tracking: the closest such ancestor is the target. */
const INTERACTIVE =
  'a[href],button,summary,select,[role=button],[role=link],[role=menuitem],[role=tab],' +
  '[role=checkbox],[role=switch],input[type=submit],input[type=button],input[type=image],' +
  'input[type=reset],input[type=checkbox],input[type=radio],[data-vv-track]';

/** A form's description lists at most this many fields; sign-up forms have a handful. */
const MAX_FIELDS = 24;

/** Whether the element or one of its ancestors opted out with `data-vv-ignore`. */
export function isIgnored(element: Element): boolean {
  return element.closest('[data-vv-ignore]') !== null;
}

/** The interactive element a click landed on, or null for clicks on plain content. */
export function interactiveTarget(target: EventTarget | null): Element | null {
  const start =
    target instanceof Element ? target : target instanceof Node ? target.parentElement : null;
  const found = start?.closest(INTERACTIVE) ?? null;
  return found && !isIgnored(found) ? found : null;
}

function attribute(element: Element, name: string, max = MAX_TEXT): string | undefined {
  const value = element.getAttribute(name);
  return value ? scrubText(value, max) : undefined;
}

/**
 * The visible text of an element. An `<input type=submit>` shows its `value` as its label; that
 * is the one value read, and only for button-like inputs, never for fields a person types in.
 */
function visibleText(element: Element): string | undefined {
  if (element instanceof HTMLInputElement) {
    const buttonLike = ['submit', 'button', 'reset', 'image'].includes(element.type);
    return buttonLike && element.value ? scrubText(element.value) : undefined;
  }
  // textContent rather than innerText: it does not force a layout on every click.
  const text = scrubText(element.textContent ?? '');
  return text || undefined;
}

/** Describes a clicked element (or a form) for the wire. */
export function describeElement(element: Element): ElementDescription {
  const description: ElementDescription = { tag: element.tagName.toLowerCase() };
  const text = visibleText(element);
  if (text) description.text = text;
  const aria = attribute(element, 'aria-label');
  if (aria) description.aria_label = aria;
  const role = attribute(element, 'role', 64);
  if (role) description.role = role;
  const type = attribute(element, 'type', 64);
  if (type) description.type = type;
  const href = element.getAttribute('href');
  if (href) description.href = scrubHref(href);
  const id = attribute(element, 'id', 128);
  if (id) description.id = id;
  const name = attribute(element, 'name', 128);
  if (name) description.name = name;
  return description;
}

/** Describes a form with its fields by type and name; the form's own text is not sent. */
export function describeForm(form: HTMLFormElement): ElementDescription {
  const description = describeElement(form);
  delete description.text;
  const fields: FieldDescription[] = [];
  for (const control of Array.from(form.elements)) {
    if (fields.length >= MAX_FIELDS) break;
    if (isIgnored(control)) continue;
    const tag = control.tagName.toLowerCase();
    if (tag !== 'input' && tag !== 'select' && tag !== 'textarea') continue;
    const type = tag === 'input' ? (control.getAttribute('type') ?? 'text').toLowerCase() : tag;
    if (['submit', 'button', 'reset', 'image', 'hidden'].includes(type)) continue;
    const field: FieldDescription = { type };
    const name = attribute(control, 'name', 128) ?? attribute(control, 'id', 128);
    if (name) field.name = name;
    fields.push(field);
  }
  description.fields = fields;
  return description;
}

/** A form's key for `form_start` / `form_submit`: its id or name, or "". */
export function formKey(form: HTMLFormElement): string {
  return scrubText(form.getAttribute('id') ?? form.getAttribute('name') ?? '', 128);
}
