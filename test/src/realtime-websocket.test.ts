import { WS_VARIANTS } from './helpers/ably.js';
import { realtimeScenarios } from './scenarios/realtime.js';

realtimeScenarios(WS_VARIANTS, 'realtime');
