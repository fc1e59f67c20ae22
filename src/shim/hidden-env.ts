// The launcher hides NODE_EXTRA_CA_CERTS from the servers' node (cpp/shim/common.h
// server_environment()): node would parse every certificate in it at start-up for a process
// that opens no TLS connection. What a server runs (log drivers, the publish binary, tsrun
// for a runtime binary) gets it back.

const HIDDEN = 'TSRUN_SHIM_NODE_EXTRA_CA_CERTS';

export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const hidden = env[HIDDEN];
  if (hidden === undefined) return;
  env.NODE_EXTRA_CA_CERTS = hidden;
  delete env[HIDDEN];
}
