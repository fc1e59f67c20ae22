import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unixListen } from '../../../src/native/shim.js';
import { SocketListener } from '../../../src/shim/listener.js';
import { tempDirsPerTest } from '../../helpers/temp-dirs.js';

const tempDir = tempDirsPerTest('listener');

function socketPath(): string {
  return path.join(tempDir(), 's.sock');
}

/** Connects, sends `text`, and resolves with what comes back before the server ends. */
function roundTrip(where: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(where);
    let got = '';
    c.on('data', (d) => (got += d.toString()));
    c.on('end', () => resolve(got));
    c.on('error', reject);
    c.end(text);
  });
}

/** A connection's fd as a half-open socket, as ttrpc needs. */
function socketOf(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
}

/** Echoes each connection, half-open: the client's end of input ends the answer. */
function echo(socket: net.Socket): void {
  socket.on('data', (d) => socket.write(d));
  socket.on('end', () => socket.end());
}

describe('SocketListener', () => {
  it('serves every connection, several waiting at once among them', async () => {
    const where = socketPath();
    const served: net.Socket[] = [];
    const listener = new SocketListener(
      unixListen(where),
      (fd) => {
        const s = socketOf(fd);
        served.push(s);
        echo(s);
      },
      (m) => expect.fail(m),
    );
    try {
      const answers = await Promise.all(['a', 'b', 'c', 'd'].map((t) => roundTrip(where, t)));
      expect(answers).toEqual(['a', 'b', 'c', 'd']);
      expect(await roundTrip(where, 'later')).toBe('later');
      expect(served).toHaveLength(5);
      // Half-open as ttrpc needs: the client ended its side, ours answered after.
      expect(served.every((s) => s.allowHalfOpen)).toBe(true);
    } finally {
      listener.close();
    }
  });

  it('stops accepting when closed, and closes the socket', async () => {
    const where = socketPath();
    const listener = new SocketListener(unixListen(where), (fd) => echo(socketOf(fd)), (m) => expect.fail(m));
    expect(await roundTrip(where, 'x')).toBe('x');
    listener.close();
    listener.close(); // twice is harmless
    await expect(roundTrip(where, 'y')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses an fd that is not open, before serving anything', () => {
    expect(() => new SocketListener(987654, (fd) => echo(socketOf(fd)), () => {})).toThrow(/EBADF|epoll_ctl/);
  });
});
