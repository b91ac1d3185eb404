/**
 * synack: a TCP real-time communication toolkit. Every connection and listener is an XState
 * machine; sockets reach the machines as RxJS streams.
 *
 * @example
 * ```ts
 * import { createServer, createClient } from 'synack';
 *
 * const server = createServer({ port: 0 });
 * server.events$.subscribe((e) => e.event === 'data' && server.broadcast(e.chunk, e.id));
 * const { port } = await server.listen();
 *
 * const client = createClient({ host: '127.0.0.1', port, retry: { attempts: 3 } });
 * await client.connect();
 * client.send('hello\n');
 * ```
 * @packageDocumentation
 */

export { SynackError, errorInfo, type SynackErrorCode, type SynackErrorInfo } from './errors.js';

export { createServer, Server, type ServerOptions } from './app/server.js';
export { createClient, Client, type ClientOptions } from './app/client.js';
export { Supervisor, type SupervisorOptions } from './app/supervisor.js';
export { snapshots$ } from './app/observe.js';
export type { CoreEvent, SynackEvent, SynackEventName } from './app/events.js';
export { attachInspector, startInspector, type Inspector, type InspectorOptions } from './app/inspector/index.js';
export { startUi, exposureNotice, type Ui, type UiOptions } from './app/ui/index.js';

export {
  sendFile,
  sendFiles,
  createFileReceiver,
  listBatch,
  FileSend,
  FileBatch,
  FileReceiver,
  type SendFileOptions,
  type SendFilesOptions,
  type FileReceiverOptions,
  type TransferredFile,
  type SentFile,
  type ReceivedFile,
  type BatchEntry,
  type BatchResult,
  type TransferInfo,
} from './app/file-transfer.js';
export type { FileEvent, FileDirection, BatchPosition, FileTransferEvent, FileTransferEventName } from './app/file-events.js';
export { createRegistry, Registry, type RegistryOptions } from './app/registry.js';
export { createPeer, Peer, parseHostPort, type PeerOptions } from './app/peer.js';
export type { P2pEvent, P2pEventName, P2pFacadeEvent, PeerEntry } from './app/p2p-events.js';

export {
  connectionMachine,
  connectionState,
  connectionSampleEvents,
  type ConnectionActor,
  type ConnectionContext,
  type ConnectionEmitted,
  type ConnectionEvent,
  type ConnectionInput,
  type ConnectionSnapshot,
  type ConnectionStateName,
  type DataSink,
  type Framing,
} from './machines/connection.js';
export {
  listenerMachine,
  listenerState,
  listenerSampleEvents,
  type ClientKeeper,
  type ListenerActor,
  type ListenerContext,
  type ListenerEvent,
  type ListenerInput,
  type ListenerSnapshot,
  type ListenerStateName,
} from './machines/listener.js';
export { supervisorMachine, supervisorSampleEvents, type SupervisorEvent, type SupervisorSnapshot } from './machines/supervisor.js';
export { ClientTable, type ClientEvent, type ClientInfo, type ClientTableOptions } from './machines/client-table.js';
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './machines/retry.js';
export {
  heartbeatMachine,
  heartbeatSampleEvents,
  type HeartbeatActor,
  type HeartbeatContext,
  type HeartbeatEvent,
  type HeartbeatInput,
  type HeartbeatParentEvent,
  type HeartbeatSnapshot,
} from './machines/heartbeat.js';

export {
  fileSendMachine,
  fileSendState,
  fileSendSampleEvents,
  type FileSendActor,
  type FileSendContext,
  type FileSendEvent,
  type FileSendInput,
  type FileSendSnapshot,
  type FileSendStateName,
} from './machines/file-send.js';
export {
  fileReceiveMachine,
  fileReceiveState,
  fileReceiveSampleEvents,
  type FileReceiveActor,
  type FileReceiveContext,
  type FileReceiveEvent,
  type FileReceiveInput,
  type FileReceiveSnapshot,
  type FileReceiveStateName,
} from './machines/file-receive.js';
export type { TransferContext } from './machines/transfer.js';
export {
  registryMachine,
  registryState,
  registrySampleEvents,
  REGISTRY_DEFAULTS,
  type RegistryActor,
  type RegistryContext,
  type RegistryEvent,
  type RegistryInput,
  type RegistrySnapshot,
  type RegistryStateName,
} from './machines/registry.js';
export {
  peerMachine,
  peerState,
  peerStateName,
  peerSampleEvents,
  PEER_DEFAULTS,
  type PeerActor,
  type PeerContext,
  type PeerEvent,
  type PeerInput,
  type PeerSnapshot,
  type PeerChatStateName,
  type PeerRegistryStateName,
} from './machines/peer.js';

export { socketEvents, writeBounded, formatEndpoint, type Endpoint, type SocketEvent, type WriteResult } from './transport/socket-bridge.js';
export { listenEvents, type ListenEvent, type ListenOptions } from './transport/listen-bridge.js';
export { listInterfaces, type InterfaceAddress } from './transport/interfaces.js';
export { encodeRawLine, parseHex, displayText, hexDump, type Eol } from './transport/raw.js';
export {
  QtFrameDecoder,
  QtFrameType,
  encodeQtFrame,
  qtFrameWireSize,
  decodeQtFrame,
  textFrame,
  mediaFrame,
  frameText,
  isHeartbeat,
  CLIENT_HEARTBEAT,
  SERVER_HEARTBEAT_REPLY,
  encodeQString,
  decodeQString,
  type QtFrame,
} from './transport/qt-frame.js';
export { FileHeaderDecoder, encodeFileHeader, type FileHeader } from './transport/qt-file-header.js';
export { safeBaseName, safeRelativePath, nextFreeName } from './transport/safe-name.js';
export {
  P2pFrameDecoder,
  encodeP2pFrame,
  parsePeerAddress,
  parsePeerList,
  formatPeerAddress,
  formatPeerList,
  type P2pFrame,
  type PeerAddress,
} from './transport/p2p-frame.js';
