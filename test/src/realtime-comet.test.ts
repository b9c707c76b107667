import { COMET_VARIANTS } from './helpers/ably.js';
import { realtimeScenarios } from './scenarios/realtime.js';

realtimeScenarios(COMET_VARIANTS, 'realtime');
