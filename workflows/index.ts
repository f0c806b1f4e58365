export { projectLifecycle } from './project-lifecycle';
export { notificationDispatcher } from './notification-dispatcher';
export { supervisionRun } from './supervision';
export { projectBlocker } from './project-blocker';
export { projectImport } from './project-import';
export { publishNotice } from './notices';
