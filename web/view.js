// Rendering: every piece of user text goes in with textContent, never as markup, so a message
// such as <img src=x onerror=alert(1)> shows as the text it is.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function stamp(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return el('time', { datetime: d.toISOString(), text: (today ? clock : day).format(d) });
}

/** One message line: who, text, time; `system` lines have no author. */
export function message(m, me) {
  const mine = m.from && me && m.from.toLowerCase() === me.toLowerCase();
  const li = el('li', { class: `msg${m.system ? ' system' : ''}${mine ? ' mine' : ''}` });
  if (m.from && !m.system) li.append(el('span', { class: 'who', text: m.from }));
  li.append(el('span', { class: 'text', text: m.text }));
  li.append(stamp(m.at));
  return li;
}

export function messages(list, items, me) {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...items.map((m) => message(m, me)));
  if (atBottom || items.length < 50) list.scrollTop = list.scrollHeight;
}

/** A sidebar entry: a button that opens it, and what goes beside it. */
export function item(label, { current, onclick, badge, dot, blocked, title } = {}) {
  const button = el('button', {
    class: `item${blocked ? ' blocked' : ''}`,
    type: 'button',
    'aria-current': current ? 'true' : 'false',
    title,
    onclick,
    text: label,
  });
  return el('li', {}, dot ? el('span', { class: 'dot', 'aria-hidden': 'true' }) : null, button,
    badge ? el('span', { class: 'badge', text: String(badge), 'aria-label': `${badge} unread` }) : null);
}
