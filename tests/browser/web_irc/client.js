// Kiwi IRC's IRC library (npm irc-framework, its prebuilt browser bundle) as a web IRC client
// does it: a WebSocket to the server's /ws with the text.ircv3.net subprotocol (the bundle's
// default), SASL PLAIN for the account, then a channel. Every event it reports is appended to
// #log as one line of text, for web_irc.py to read.
const IRC = window['irc-framework'];
const log = (text) => {
  const li = document.createElement('li');
  li.textContent = text;
  document.getElementById('log').append(li);
};
const p = new URLSearchParams(location.hash.slice(1));
const client = new IRC.Client({
  host: '127.0.0.1',
  port: Number(p.get('port')),
  path: '/ws',
  nick: p.get('nick'),
  username: p.get('nick'),
  gecos: 'Kiwi web user',
  account: { account: p.get('nick'), password: p.get('password') },
  auto_reconnect: false,
});
client.on('registered', () => {
  log(`registered ${client.user.nick} caps=${client.network.cap.enabled.join(',')}`);
  client.join('#den');
});
client.on('loggedin', (e) => log(`loggedin ${e.account}`));
client.on('join', (e) => log(`join ${e.channel} ${e.nick}`));
client.on('userlist', (e) => log(`userlist ${e.channel} ${e.users.map((u) => u.nick).sort().join(',')}`));
client.on('privmsg', (e) => log(`privmsg ${e.target} ${e.nick}: ${e.message} time=${e.time ? 'yes' : 'no'}`));
client.on('action', (e) => log(`action ${e.target} ${e.nick}: ${e.message}`));
client.on('notice', (e) => log(`notice ${e.nick}: ${e.message}`));
client.on('whois', (e) => log(`whois ${e.nick} ${e.real_name} account=${e.account || ''}`));
client.on('close', () => log('closed'));
client.on('debug', (m) => console.log(m));
client.on('raw', (e) => console.log(`${e.from_server ? '<' : '>'} ${e.line}`));
client.on('socket close', () => log('socket close'));
client.connect();
window.irc = client;
