// A binary:// logging driver (containerd's protocol): the driver gets the read ends of the
// stdout and stderr pipes as fds 3 and 4 and a "ready" pipe as fd 5, and an environment of
// just CONTAINER_ID and CONTAINER_NAMESPACE. It is ready when it closes fd 5 (binary://)
// or writes a byte to it (required by binary-v2://). The container writes into the pipes.
import type { ChildProcess } from 'node:child_process';
import { Internal } from '../../errors.js';
import { childProcess, pipe } from '../../native/index.js';
import { closeQuietly, readStream } from './fds.js';

const STOP_TIMEOUT_MS = 12_000;

export class LogDriver {
  /** write ends of the driver's stdout and stderr pipes, while we hold them */
  #stdout: number | undefined;
  #stderr: number | undefined;

  private constructor(
    private readonly child: ChildProcess,
    stdout: number,
    stderr: number,
    private readonly exited: Promise<void>,
  ) {
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  get stdout(): number {
    return this.#stdout ?? -1;
  }

  get stderr(): number {
    return this.#stderr ?? -1;
  }

  /** Hands over our stdout write end (a terminal's output is copied into it). */
  takeStdout(): number {
    const fd = this.#stdout ?? -1;
    this.#stdout = undefined;
    return fd;
  }

  /** Drops our write ends (the container has its own), so the driver sees EOF when the container is done. */
  releaseStdout(): void {
    closeQuietly(this.#stdout);
    this.#stdout = undefined;
  }

  releaseStderr(): void {
    closeQuietly(this.#stderr);
    this.#stderr = undefined;
  }

  static async start(
    target: { path: string; args: string[]; v2: boolean },
    env: { containerId: string; namespace: string },
    onSpawn: (child: ChildProcess) => void,
  ): Promise<LogDriver> {
    const fds: number[] = [];
    try {
      const [outR, outW] = pipe();
      fds.push(outR, outW);
      const [errR, errW] = pipe();
      fds.push(errR, errW);
      const [readyR, readyW] = pipe();
      fds.push(readyR, readyW);
      const child = childProcess().spawn(target.path, target.args, {
        env: { CONTAINER_ID: env.containerId, CONTAINER_NAMESPACE: env.namespace },
        stdio: ['ignore', 'ignore', 'ignore', outR, errR, readyW],
      });
      onSpawn(child);
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
      for (const fd of [outR, errR, readyW]) closeQuietly(fd);
      fds.splice(0, fds.length, outW, errW);
      const ready = await Promise.race([waitReady(readyR), spawnError]);
      if (ready instanceof Error || (ready === false && target.v2)) {
        if (!(ready instanceof Error)) {
          child.kill('SIGKILL');
          await exited;
        }
        const why = ready instanceof Error ? ready.message : 'it closed fd 5 without writing the ready byte';
        throw new Internal(`logging driver ${target.path}: ${why}`);
      }
      return new LogDriver(child, outW, errW, exited);
    } catch (err) {
      for (const fd of fds) closeQuietly(fd);
      throw err;
    }
  }

  /** Closes our pipe ends, then asks the driver to finish: SIGTERM, SIGKILL after 12 s. */
  async stop(): Promise<void> {
    this.releaseStdout();
    this.releaseStderr();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

/** true once the driver wrote a byte; false at EOF without one. */
function waitReady(fd: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = readStream(fd);
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.once('data', () => done(true));
    s.once('end', () => done(false));
    s.once('close', () => done(false));
  });
}
