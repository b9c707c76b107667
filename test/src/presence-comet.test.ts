import { COMET_VARIANTS } from './helpers/ably.js';
import { presenceScenarios } from './scenarios/presence.js';

presenceScenarios(COMET_VARIANTS, 'presence');
