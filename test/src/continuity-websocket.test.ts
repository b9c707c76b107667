import { WS_VARIANTS } from './helpers/ably.js';
import { continuityScenarios } from './scenarios/continuity.js';

continuityScenarios(WS_VARIANTS, 'continuity');
