import { WS_VARIANTS } from './helpers/ably.js';
import { authScenarios } from './scenarios/auth.js';

authScenarios(WS_VARIANTS, 'token auth');
