export { assessDeployment, podsOf } from './deployment.js';
export { assessPvc } from './pvc.js';
export { assessService, assessSolution, describeUnready } from './solution.js';
export { CRASH_LOOP_TERMINAL_RESTARTS, isPodReady, podProblem, type PodProblem } from './pod.js';
export * from './types.js';
