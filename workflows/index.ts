export { projectLifecycle } from './project-lifecycle';
