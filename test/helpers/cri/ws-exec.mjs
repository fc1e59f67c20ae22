// A streaming exec client for the CRI tests, run as its own node process so that it can be
// started inside containerd's network namespace (nsenter --net), where containerd's streaming
// server listens:  node ws-exec.mjs <url from CRI Exec> [<cols>x<rows>]
// With a size (for a tty exec), a resize message goes out on channel 4 once connected.
// It takes the URL over WebSocket with Kubernetes' v4.channel.k8s.io subprotocol (every
// message's first byte is its channel: 1 stdout, 2 stderr, 3 the final status as JSON), which
// the streaming server offers beside SPDY, and prints {"stdout","stderr","status"} as JSON.
// Plain JavaScript on node:net: Node 20 has no WebSocket client without a flag.
import crypto from 'node:crypto';
import net from 'node:net';

const PROTOCOL = 'v4.channel.k8s.io';
const url = new URL(process.argv[2] ?? '');
const key = crypto.randomBytes(16).toString('base64');
const out = { stdout: '', stderr: '', status: null };
const channels = [[], [], [], []];
let buffer = Buffer.alloc(0);
let upgraded = false;
let message = [];

function fail(text) {
  process.stderr.write(`ws-exec: ${text}\n`);
  process.exit(1);
}

const sock = net.connect(Number(url.port), url.hostname, () => {
  sock.write(
    [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Protocol: ${PROTOCOL}`,
      '',
      '',
    ].join('\r\n'),
  );
});
sock.setTimeout(30_000, () => fail('no answer within 30 s'));
// Once the server has sent its close (or the final status), it may reset the connection
// before our close reaches it: everything is read by then, and 'close' prints it.
let closing = false;
sock.on('error', (err) => {
  if (closing || channels[3].length > 0) return;
  fail(err.message);
});
sock.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  if (!upgraded) {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buffer.subarray(0, end).toString('latin1');
    if (!/^HTTP\/1\.1 101 /.test(head)) fail(`no upgrade: ${head.split('\r\n')[0]}`);
    const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    if (!head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) fail('bad Sec-WebSocket-Accept');
    if (!head.toLowerCase().includes(`sec-websocket-protocol: ${PROTOCOL}`)) fail(`the server did not take ${PROTOCOL}: ${head}`);
    upgraded = true;
    buffer = buffer.subarray(end + 4);
    const size = /^(\d+)x(\d+)$/.exec(process.argv[3] ?? '');
    if (size) send(4, JSON.stringify({ Width: Number(size[1]), Height: Number(size[2]) }));
  }
  frames();
});
sock.on('close', () => {
  const text = (n) => Buffer.concat(channels[n]).toString('utf8');
  out.stdout = text(1);
  out.stderr = text(2);
  const status = text(3);
  out.status = status === '' ? null : JSON.parse(status);
  process.stdout.write(`${JSON.stringify(out)}\n`);
});

/** One binary message on a channel; a client's frames are masked (RFC 6455 5.3). */
function send(channel, text) {
  const payload = Buffer.concat([Buffer.from([channel]), Buffer.from(text, 'utf8')]);
  if (payload.length > 125) fail('message too long for this client');
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  sock.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]));
}

// Server frames are never masked; a message may come in fragments (opcode 0).
function frames() {
  for (;;) {
    if (buffer.length < 2) return;
    const opcode = buffer[0] & 0x0f;
    const fin = (buffer[0] & 0x80) !== 0;
    let len = buffer[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      if (buffer.length < 4) return;
      len = buffer.readUInt16BE(2);
      at = 4;
    } else if (len === 127) {
      if (buffer.length < 10) return;
      len = Number(buffer.readBigUInt64BE(2));
      at = 10;
    }
    if (buffer.length < at + len) return;
    const payload = buffer.subarray(at, at + len);
    buffer = buffer.subarray(at + len);
    if (opcode === 8) {
      closing = true;
      sock.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0])); // our close, masked with a zero key
      return;
    }
    if (opcode === 9 || opcode === 10) continue; // ping/pong: the exchange is short
    message.push(payload);
    if (!fin) continue;
    const whole = Buffer.concat(message);
    message = [];
    if (whole.length === 0) continue;
    const channel = whole[0];
    if (channel >= 1 && channel <= 3) channels[channel].push(whole.subarray(1));
  }
}
