/**
 * The web UI (`synack ui`): the network debugging assistant as a page on 127.0.0.1, driving
 * servers and clients on one Supervisor, with the live inspector beside them.
 */
export { startUi, exposureNotice, type Ui, type UiOptions } from './server.js';
export {
  UiSession,
  encodePayload,
  interfaceOptions,
  badgeOf,
  type UiSessionOptions,
  type UiMessage,
  type ServerView,
  type ClientCardView,
  type ClientRow,
  type ServerConfig,
  type ClientConfig,
  type InterfaceOption,
  type UiFeatures,
} from './session.js';
export { parseCommand, type UiCommand, type UiCommandType, type Payload } from './commands.js';
export { SettingsStore, settingsFile, sanitizeSettings, DEFAULT_SETTINGS, type UiSettings } from './settings.js';
export { P2pPanel, describeP2p, type P2pView, type PeerView, type RegistryView } from './p2p.js';
export { FilesPanel, resolveFolder, type FilesView, type FileTransferView, type ReceiverView } from './files.js';
export { LogBook, formatLog, describeEvent, type LogEntry } from './log.js';
