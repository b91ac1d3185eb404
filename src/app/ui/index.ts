/**
 * The web UI (`synack ui`): the network debugging assistant as a page on 127.0.0.1, driving
 * servers and clients on one Supervisor, with the live inspector beside them.
 */
export { startUi, exposureNotice, type Ui, type UiOptions } from './server.js';
