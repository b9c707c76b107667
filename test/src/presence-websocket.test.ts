import { WS_VARIANTS } from './helpers/ably.js';
import { presenceScenarios } from './scenarios/presence.js';

presenceScenarios(WS_VARIANTS, 'presence');
