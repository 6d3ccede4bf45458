// What the bundle expects of Node and Kiwi IRC's build provides (the bundle ships no
// polyfill for them): process.nextTick for its stream code, and Buffer.from(text, 'utf8')
// .toString('base64') for SASL PLAIN.
window.process = { env: {}, nextTick: (f, ...args) => queueMicrotask(() => f(...args)) };
window.Buffer = {
  from: (text) => ({
    toString: () => btoa(String.fromCharCode(...new TextEncoder().encode(text))),
  }),
};
