export * from './errors.js';
export { createJobInstaller, packageJobName, renderPackageInstallJob, PackageInstallFailedError, type PackageJobOptions, type PackageSource } from './install-job.js';
export { planRollout, type NodeInstall, type NodePackages, type PackageVersions, type RolloutPlan } from './rollout-plan.js';
export { NODE_ROLLOUT_STATUSES, rolloutPackages, type NodeRolloutResult, type NodeRolloutStatus, type PackageInstaller, type RolloutOptions, type RolloutOutcome } from './rollout.js';
export { checkDeclaration, createPackageStore, type PackageFile, type PackageStore, type PackageStoreOptions, type UploadDeclaration, type UploadRecord, type UploadStatus } from './upload-store.js';
