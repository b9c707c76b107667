/** Every transport @encke/client has, for the picker. */
import type { TransportName } from '@encke/client';

export const TRANSPORT_NAMES: readonly TransportName[] = ['web_socket', 'xhr_streaming', 'xhr_polling', 'polling'];
