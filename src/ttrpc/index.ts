// The ttrpc package: framing, server, client and status codes. It knows nothing of containerd
// and imports from the rest of tsrun only the generated envelope (Request, Response, Status).

export { Client, type CallOptions, type ClientOptions } from './client.js';
export { Flags, FrameReader, HEADER_LENGTH, MAX_DATA_LENGTH, MessageType, decodeHeader, encodeFrame } from './frame.js';
export type { Frame, FrameHeader, FrameSink } from './frame.js';
export { Metadata } from './metadata.js';
export { Server, type ServerOptions } from './server.js';
export { ServiceRegistry, type CallContext, type RawHandler, type ServiceImpl } from './service.js';
export { Code, TtrpcError, codeName, toTtrpcError } from './status.js';
