export { projectLifecycle } from './project-lifecycle';
export { notificationDelivery } from './notification-delivery';
export { supervisionRun } from './supervision';
export { projectBlocker } from './project-blocker';
export { projectImport } from './project-import';
export { publishNotice } from './notices';
