// The page: log in, see who is online, talk to everyone, in rooms and in direct conversations.
// State lives here; net.js carries it, view.js draws it.

import { Connection } from './net.js';
import { $, el, item, messages } from './view.js';

const EVERYONE = 'all';
const state = {
  me: null,
  credentials: null, // { user, password, register }: this page's memory only
  loggedIn: false,
  online: new Set(),
  blocked: new Set(),
  rooms: [], // [{ room, owner, members }] as listed
  joined: new Set(),
  conversations: new Map(), // key -> { key, kind: 'all'|'dm'|'room', name, items: [], unread }
  current: EVERYONE,
  sent: [], // input history
  recall: 0,
};

const lower = (s) => s.toLowerCase();
const dmKey = (name) => `dm:${lower(name)}`;
const roomKey = (name) => `room:${lower(name)}`;

function conversation(key, kind, name) {
  let c = state.conversations.get(key);
  if (!c) {
    c = { key, kind, name, items: [], unread: 0, loaded: false };
    state.conversations.set(key, c);
  }
  return c;
}

function add(key, kind, name, m) {
  const c = conversation(key, kind, name);
  c.items.push({ at: Date.now(), ...m });
  if (c.items.length > 1000) c.items.splice(0, c.items.length - 1000);
  if (key !== state.current || document.hidden) c.unread += 1;
  draw();
}

function system(text, key = state.current) {
  const c = state.conversations.get(key) || conversation(EVERYONE, 'all', 'Everyone');
  add(c.key, c.kind, c.name, { system: true, text });
}

const net = new Connection(onEvent, onState);

function onState(s, detail) {
  const status = $('status');
  if (s === 'connecting') status.textContent = 'connecting…';
  if (s === 'open') {
    status.textContent = 'connected';
    if (state.credentials) login(state.credentials, true);
  }
  if (s === 'closed' && state.loggedIn) {
    state.loggedIn = false;
    system('Connection to the server lost; reconnecting…');
  }
  if (s === 'waiting') status.textContent = `offline, retrying in ${detail} s`;
}

function login(credentials, again) {
  const { user, password, register } = credentials;
  net.send({ type: register && !again ? 'register' : 'login', user, password });
}

function onEvent(e) {
  switch (e.type) {
    case 'welcome':
      state.loggedIn = true;
      state.me = state.credentials.user;
      state.credentials.register = false;
      $('login-view').hidden = true;
      $('chat-view').hidden = false;
      $('logout').hidden = false;
      $('me').textContent = state.me;
      $('status').textContent = 'connected';
      state.joined.clear();
      net.send({ type: 'whoelse' });
      net.send({ type: 'room_list' });
      loadHistory();
      draw();
      $('text').focus();
      break;
    case 'prompt':
      break;
    case 'notice':
      if (!state.loggedIn) $('login-error').textContent = e.text;
      else system(e.text);
      if (['now_locked', 'still_locked'].includes(e.notice)) state.credentials = null;
      break;
    case 'error':
      if (!state.loggedIn) {
        $('login-error').textContent = e.text;
        if (!['login_rate'].includes(e.code)) state.credentials = null;
      } else system(e.text);
      break;
    case 'new_user':
      break;
    case 'users':
      for (const u of e.users) state.online.add(u);
      draw();
      break;
    case 'presence':
      if (e.online) state.online.add(e.user);
      else state.online.delete(e.user);
      draw();
      break;
    case 'chat':
      onChat(e);
      break;
    case 'server_announcement':
      add(EVERYONE, 'all', 'Everyone', { from: 'server', text: e.text });
      break;
    case 'blocked':
      state.blocked.add(lower(e.user));
      system(`${e.user} is blocked`);
      break;
    case 'unblocked':
      state.blocked.delete(lower(e.user));
      system(`${e.user} is unblocked`);
      break;
    case 'history':
      onHistory(e.lines);
      break;
    case 'replay':
      onReplay(e);
      break;
    case 'room':
      onRoom(e);
      break;
    case 'private':
      system(e.text);
      break;
    case 'logged_out':
    case 'goodbye':
      break;
    default:
      if (e.text) system(e.text);
  }
}

function onChat(e) {
  switch (e.audience) {
    case 'direct':
    case 'private': {
      const other = lower(e.from) === lower(state.me || '') ? e.to : e.from;
      add(dmKey(other), 'dm', other, { from: e.from, text: e.text });
      break;
    }
    default:
      add(EVERYONE, 'all', 'Everyone', { from: e.from, text: e.text });
  }
}

/** History (broadcasts, announcements and this user's direct messages, with their times)
 * replaces what the everyone and direct conversations show. */
function onHistory(lines) {
  const fresh = new Map();
  for (const l of lines) {
    const other = l.to === null ? null : lower(l.from) === lower(state.me) ? l.to : l.from;
    const key = other === null ? EVERYONE : dmKey(other);
    if (!fresh.has(key)) fresh.set(key, { name: other || 'Everyone', items: [] });
    fresh.get(key).items.push({ at: l.at_ms, from: l.from, text: l.text });
  }
  for (const [key, { name, items }] of fresh) {
    const c = conversation(key, key === EVERYONE ? 'all' : 'dm', name);
    // Notes of this page (a lost connection…) stay, in time order.
    c.items = items.concat(c.items.filter((m) => m.system)).sort((x, y) => x.at - y.at);
    c.loaded = true;
  }
  draw();
}

/** A room's stored chat, asked for when it opens: before what came since, each message once
 * (by its msgid). */
function onReplay(e) {
  if (!e.room) return;
  const c = conversation(roomKey(e.target), 'room', e.target);
  const stored = e.lines.map((l) => ({ at: l.time_ms, msgid: l.msgid, from: l.from, text: l.text }));
  const seen = new Set(stored.map((m) => m.msgid));
  c.items = stored.concat(c.items.filter((m) => !seen.has(m.msgid))).sort((x, y) => x.at - y.at);
  draw();
}

function loadHistory() {
  net.send({ type: 'history', n: 500 });
}

function onRoom(e) {
  const key = e.room ? roomKey(e.room) : null;
  switch (e.event) {
    case 'list':
      state.rooms = e.rooms;
      break;
    case 'entered':
      state.joined.add(lower(e.room));
      conversation(key, 'room', e.room);
      add(key, 'room', e.room, { system: true, text: `You entered ${e.room}. Members: ${e.members.map((m) => m.name).join(', ')}` });
      if (e.topic) add(key, 'room', e.room, { system: true, text: `Topic: ${e.topic.text}` });
      open(key);
      net.send({ type: 'room_list' });
      return;
    case 'opened':
      net.send({ type: 'room_join', room: e.room });
      return;
    case 'joined':
      add(key, 'room', e.room, { system: true, text: `${e.user} entered` });
      return;
    case 'left':
    case 'exited':
      if (e.event === 'exited') state.joined.delete(lower(e.room));
      add(key, 'room', e.room, { system: true, text: `${e.user} left` });
      return;
    case 'quit':
      for (const c of state.conversations.values()) {
        if (c.kind === 'room') c.items.push({ at: Date.now(), system: true, text: `${e.user} logged out` });
      }
      break;
    case 'chat':
    case 'said':
      add(key, 'room', e.room, { at: e.time_ms, msgid: e.msgid, from: e.from, text: e.text });
      return;
    case 'removed':
    case 'closed':
      state.joined.delete(lower(e.room));
      add(key, 'room', e.room, { system: true, text: e.event === 'closed' ? `${e.room} was closed` : `You were removed from ${e.room}` });
      return;
    case 'topic_set':
      add(key, 'room', e.room, { system: true, text: e.topic ? `${e.by} set the topic: ${e.topic.text}` : `${e.by} cleared the topic` });
      return;
    default:
      if (key) add(key, 'room', e.room, { system: true, text: `${e.event}` });
  }
  draw();
}

function open(key) {
  state.current = key;
  const c = state.conversations.get(key) || conversation(EVERYONE, 'all', 'Everyone');
  c.unread = 0;
  if (c.kind !== 'room' && !c.loaded) loadHistory();
  if (c.kind === 'room' && !c.loaded) {
    c.loaded = true;
    net.send({ type: 'replay_latest', with: { room: c.name }, limit: 200 });
  }
  $('sidebar').classList.remove('open');
  $('menu-toggle').setAttribute('aria-expanded', 'false');
  draw();
  $('text').focus();
}

function draw() {
  const current = state.conversations.get(state.current) || conversation(EVERYONE, 'all', 'Everyone');
  $('title').textContent = current.kind === 'room' ? `#${current.name}` : current.kind === 'dm' ? `${current.name} (direct)` : 'Everyone';
  $('leave').hidden = !(current.kind === 'room' && state.joined.has(lower(current.name)));
  messages($('messages'), current.items, state.me);
  const convs = [...state.conversations.values()].sort((a, b) => (a.kind === 'all' ? -1 : b.kind === 'all' ? 1 : a.name.localeCompare(b.name)));
  $('conversations').replaceChildren(...convs.map((c) => item(c.kind === 'room' ? `#${c.name}` : c.name, {
    current: c.key === state.current,
    badge: c.unread,
    blocked: c.kind === 'dm' && state.blocked.has(lower(c.name)),
    onclick: () => open(c.key),
  })));
  const people = [...state.online].filter((u) => lower(u) !== lower(state.me || '')).sort((a, b) => a.localeCompare(b));
  $('online').replaceChildren(...people.map((u) => item(u, {
    dot: true,
    blocked: state.blocked.has(lower(u)),
    title: `${u}: message or block`,
    onclick: (ev) => userMenu(u, ev.currentTarget),
  })));
  $('rooms').replaceChildren(...state.rooms.map((r) => item(`#${r.room} (${r.members})`, {
    current: state.current === roomKey(r.room),
    title: state.joined.has(lower(r.room)) ? 'Open' : 'Join',
    onclick: () => (state.joined.has(lower(r.room)) ? open(roomKey(r.room)) : net.send({ type: 'room_join', room: r.room })),
  })));
  const unread = [...state.conversations.values()].reduce((n, c) => n + c.unread, 0);
  document.title = unread ? `(${unread}) chatserver` : 'chatserver';
}

let menuFor = null;
function userMenu(user, anchor) {
  menuFor = user;
  const menu = $('user-menu');
  $('user-menu-name').textContent = user;
  $('user-menu-block').textContent = state.blocked.has(lower(user)) ? 'Unblock' : 'Block';
  const r = anchor.getBoundingClientRect();
  menu.style.left = `${Math.min(r.left, window.innerWidth - 180)}px`;
  menu.style.top = `${r.bottom + 4}px`;
  menu.hidden = false;
  $('user-menu-dm').focus();
}

function closeMenu() {
  $('user-menu').hidden = true;
  menuFor = null;
}

function submitText(ev) {
  ev.preventDefault();
  const input = $('text');
  const text = input.value;
  if (!text.trim()) return;
  const c = state.conversations.get(state.current) || conversation(EVERYONE, 'all', 'Everyone');
  if (c.kind === 'room') net.send({ type: 'room_say', room: c.name, text });
  else if (c.kind === 'dm') {
    net.send({ type: 'message', to: c.name, text });
    add(c.key, 'dm', c.name, { from: state.me, text });
  } else {
    net.send({ type: 'broadcast', text });
    add(EVERYONE, 'all', 'Everyone', { from: state.me, text });
  }
  state.sent.push(text);
  state.recall = state.sent.length;
  input.value = '';
}

function recallKey(ev) {
  if (ev.key !== 'ArrowUp' && ev.key !== 'ArrowDown') return;
  if (!state.sent.length) return;
  ev.preventDefault();
  state.recall = Math.max(0, Math.min(state.sent.length, state.recall + (ev.key === 'ArrowUp' ? -1 : 1)));
  $('text').value = state.sent[state.recall] ?? '';
}

function start() {
  conversation(EVERYONE, 'all', 'Everyone');
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    $('login-error').textContent = '';
    state.credentials = { user: $('login-user').value.trim(), password: $('login-password').value, register: $('login-new').checked };
    $('login-password').value = '';
    if (!net.ws) net.open();
    else login(state.credentials, false);
  });
  $('logout').addEventListener('click', () => {
    net.send({ type: 'logout' });
    state.credentials = null;
    state.loggedIn = false;
    state.online.clear();
    state.conversations.clear();
    conversation(EVERYONE, 'all', 'Everyone');
    state.current = EVERYONE;
    $('chat-view').hidden = true;
    $('login-view').hidden = false;
    $('logout').hidden = true;
    $('me').textContent = '';
    $('login-user').focus();
  });
  $('send-form').addEventListener('submit', submitText);
  $('text').addEventListener('keydown', recallKey);
  $('room-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const room = $('room-name').value.trim();
    if (!room) return;
    net.send({ type: 'room_join', room, create: true });
    $('room-name').value = '';
  });
  $('rooms-refresh').addEventListener('click', () => net.send({ type: 'room_list' }));
  $('leave').addEventListener('click', () => {
    const c = state.conversations.get(state.current);
    if (c && c.kind === 'room') net.send({ type: 'room_part', room: c.name });
  });
  $('menu-toggle').addEventListener('click', () => {
    const open = $('sidebar').classList.toggle('open');
    $('menu-toggle').setAttribute('aria-expanded', String(open));
  });
  $('user-menu-dm').addEventListener('click', () => {
    const u = menuFor;
    closeMenu();
    conversation(dmKey(u), 'dm', u);
    open(dmKey(u));
  });
  $('user-menu-block').addEventListener('click', () => {
    const u = menuFor;
    closeMenu();
    net.send({ type: state.blocked.has(lower(u)) ? 'unblock' : 'block', user: u });
  });
  $('user-menu-close').addEventListener('click', closeMenu);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeMenu();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) open(state.current);
  });
  net.open();
  $('login-user').focus();
}

start();
