// The connection to the server: one WebSocket speaking the events protocol (PROTOCOL.md §9),
// opened again with backoff whenever it drops (a server restart), logging in again with the
// name and password kept in this page's memory only.

const PROTOCOL = 'chatserver.events';

export class Connection {
  /** onEvent(object), onState('connecting'|'open'|'closed', detail) */
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws`;
  }

  open() {
    this.stopped = false;
    clearTimeout(this.timer);
    this.onState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url(), PROTOCOL);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onState('open');
    };
    ws.onmessage = (m) => {
      let event;
      try {
        event = JSON.parse(m.data);
      } catch (e) {
        return;
      }
      const done = event.id !== undefined && this.pending.get(event.id);
      if (done && event.type === 'done') {
        this.pending.delete(event.id);
        done(event);
      }
      this.onEvent(event);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.pending.clear();
      this.onState('closed', e.code);
      if (!this.stopped) this.retry();
    };
  }

  /** Reconnect after 1, 2, 4, 8, 16 s, then every 30 s, each wait varied by up to a quarter
   * so the browsers of one server do not all come back at once. */
  retry() {
    const base = Math.min(30, 2 ** this.attempt);
    this.attempt += 1;
    const wait = base * 1000 * (0.75 + Math.random() * 0.5);
    this.onState('waiting', Math.round(wait / 1000));
    this.timer = setTimeout(() => this.open(), wait);
  }

  /** Send a request; resolves with its `done` once every reply to it has arrived. */
  send(request) {
    const id = this.nextId++;
    const promise = new Promise((resolve) => this.pending.set(id, resolve));
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
    this.ws.send(JSON.stringify({ ...request, id }));
    return promise;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}
