import { COMET_VARIANTS } from './helpers/ably.js';
import { continuityScenarios } from './scenarios/continuity.js';

continuityScenarios(COMET_VARIANTS, 'continuity');
