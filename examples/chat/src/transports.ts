/** Every transport @encke/client has, for the picker: the library's own list, so the picker grows with it. */
export { TRANSPORTS as TRANSPORT_NAMES, type TransportName } from '@encke/client/transports';
