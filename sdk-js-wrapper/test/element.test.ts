import { beforeEach, describe, expect, it } from 'vitest';
import {
  describeElement,
  describeForm,
  formKey,
  interactiveTarget,
  isIgnored,
} from '../src/element';

beforeEach(() => {
  document.body.innerHTML = '';
});

function html(markup: string): HTMLElement {
  document.body.innerHTML = markup;
  return document.body;
}

describe('interactiveTarget', () => {
  it('climbs from inner content to the button or link', () => {
    html('<button id="cta"><span id="inner">Start <b id="b">free</b> trial</span></button>');
    expect(interactiveTarget(document.getElementById('b'))?.id).toBe('cta');
    html('<a href="/pricing" id="l"><img id="i"></a>');
    expect(interactiveTarget(document.getElementById('i'))?.id).toBe('l');
  });

  it('ignores plain content and anything inside data-vv-ignore', () => {
    html('<p id="p">text</p><div data-vv-ignore><button id="secret">Pay</button></div>');
    expect(interactiveTarget(document.getElementById('p'))).toBeNull();
    expect(interactiveTarget(document.getElementById('secret'))).toBeNull();
    expect(isIgnored(document.getElementById('secret')!)).toBe(true);
  });
});

describe('describeElement', () => {
  it('describes a button by tag, text and attributes, leaving absent ones out', () => {
    html('<button id="cta" type="submit" aria-label="Start trial">  Start free trial </button>');
    expect(describeElement(document.getElementById('cta')!)).toEqual({
      tag: 'button',
      text: 'Start free trial',
      aria_label: 'Start trial',
      type: 'submit',
      id: 'cta',
    });
  });

  it('strips the query from links and scrubs their text', () => {
    html('<a id="l" href="/invite?email=ada@example.com">Invite ada@example.com</a>');
    expect(describeElement(document.getElementById('l')!)).toEqual({
      tag: 'a',
      text: 'Invite [email]',
      href: '/invite',
      id: 'l',
    });
  });

  it('reads the label of a submit input but never what a person typed', () => {
    html('<input id="s" type="submit" value="Subscribe"><input id="t" type="text" name="q">');
    (document.getElementById('t') as HTMLInputElement).value = 'my secret search';
    expect(describeElement(document.getElementById('s')!).text).toBe('Subscribe');
    const typed = describeElement(document.getElementById('t')!);
    expect(JSON.stringify(typed)).not.toContain('secret');
    expect(typed).toEqual({ tag: 'input', type: 'text', id: 't', name: 'q' });
  });
});

describe('describeForm', () => {
  it('lists fields by type and name only, skipping buttons, hidden and ignored fields', () => {
    html(`<form id="signup">
      <h2>Join us, ada@example.com</h2>
      <input type="email" name="email" value="ada@example.com">
      <input type="password" name="pw" value="hunter2">
      <input type="hidden" name="csrf" value="tok">
      <textarea name="bio">about me</textarea>
      <select name="plan"><option>pro</option></select>
      <input type="text" name="card" data-vv-ignore value="4242424242424242">
      <button type="submit">Sign up</button>
    </form>`);
    const form = document.getElementById('signup') as HTMLFormElement;
    const description = describeForm(form);
    expect(description).toEqual({
      tag: 'form',
      id: 'signup',
      fields: [
        { type: 'email', name: 'email' },
        { type: 'password', name: 'pw' },
        { type: 'textarea', name: 'bio' },
        { type: 'select', name: 'plan' },
      ],
    });
    const wire = JSON.stringify(description);
    for (const secret of ['ada@', 'hunter2', 'tok', 'about me', '4242']) {
      expect(wire).not.toContain(secret);
    }
    expect(formKey(form)).toBe('signup');
  });
});
