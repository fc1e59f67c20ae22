import { describe, expect, it } from 'vitest';
import { restoreExtraCaCerts } from '../../../src/shim/hidden-env.js';

describe('restoreExtraCaCerts', () => {
  it('puts back the variable the launcher renamed', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', TSRUN_SHIM_NODE_EXTRA_CA_CERTS: '/etc/x.pem' };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/x.pem' });
  });

  it('leaves an environment without it alone', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/y.pem' };
    restoreExtraCaCerts(env);
    expect(env).toEqual({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/etc/y.pem' });
  });
});
