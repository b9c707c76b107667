import { COMET_VARIANTS } from './helpers/ably.js';
import { authScenarios } from './scenarios/auth.js';

authScenarios(COMET_VARIANTS, 'token auth');
