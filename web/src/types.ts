// Ferry's objects as the API serves them: the JSON tags of api/v1alpha1.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface RegistrySpec {
  address: string;
  internalAddress?: string;
  caBundle?: string;
  insecure?: boolean;
  credentialsSecretRef?: { name: string };
}

export interface StorageClassInfo {
  name: string;
  provisioner: string;
  default?: boolean;
}

export interface Cluster extends KubeObject {
  spec: {
    url?: string;
    caBundle?: string;
    insecure?: boolean;
    tokenSecretRef?: { name: string };
    isHost?: boolean;
    moverService?: string;
    moverIngressClass?: string;
    moverIngressDomain?: string;
    registry?: RegistrySpec;
  };
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    kubernetesVersion?: string;
    apiVersions?: string[];
    storageClasses?: StorageClassInfo[];
    lastChecked?: string;
  };
}

export interface Repository extends KubeObject {
  spec: {
    endpoint: string;
    bucket: string;
    prefix?: string;
    region?: string;
    pathStyle?: boolean;
    insecureSkipTLSVerify?: boolean;
    caBundle?: string;
  };
  status?: { conditions?: Condition[]; lastChecked?: string; observedGeneration?: number };
}

export type HookPhase = "PreBackup" | "PostBackup" | "PreRestore" | "PostRestore" | "PreRollback" | "PostRollback";
export const hookPhases: HookPhase[] = ["PreBackup", "PostBackup", "PreRestore", "PostRestore", "PreRollback", "PostRollback"];

export interface Hook extends KubeObject {
  spec: {
    job?: { image: string; command?: string[]; script?: string };
    exec?: { command: string[]; podName?: string; container?: string };
    cluster?: "source" | "destination";
    namespace?: string;
    onError?: "Fail" | "Continue";
  };
}

export interface PlanHook {
  hook: string;
  phase: HookPhase;
  cluster?: "source" | "destination";
  namespace?: string;
  order?: number;
  stages?: boolean;
}

export type PVCAction = "copy" | "skip" | "move";
export type PlanType = "Full" | "State" | "StorageConversion";
export type DataPath = "direct" | "repository" | "";

export interface PVCOverride {
  namespace: string;
  name: string;
  action?: PVCAction;
  targetName?: string;
  targetStorageClass?: string;
  targetCapacity?: string;
  targetAccessModes?: string[];
  sourceVolume?: string;
  targetExists?: boolean;
  dataPath?: DataPath;
  verify?: boolean;
}

export interface PlanSpec {
  type?: PlanType;
  sourceCluster: string;
  destinationCluster: string;
  namespaces: string[];
  includedKinds?: string[];
  excludedKinds?: string[];
  storageClassMapping?: Record<string, string>;
  persistentVolumeClaims?: PVCOverride[];
  autoResize?: boolean;
  resizeHeadroomPercent?: number;
  hooks?: PlanHook[];
  repository?: string;
  dataPath?: DataPath;
  [other: string]: unknown;
}

export interface VolumeUsage {
  usedBytes?: number;
  usedInodes?: number;
  measuredAt?: string;
  method?: string;
  unknown?: string;
}

export interface PlanPVC {
  namespace: string;
  name: string;
  storageClass?: string;
  capacity?: string;
  accessModes?: string[];
  action: PVCAction;
  targetNamespace: string;
  targetName: string;
  targetStorageClass?: string;
  targetCapacity?: string;
  targetAccessModes?: string[];
  sourceVolume?: string;
  targetExists?: boolean;
  dataPath?: DataPath;
  usage?: VolumeUsage;
  proposedCapacity?: string;
  /** the final copy is verified by checksums */
  verify?: boolean;
}

export interface Plan extends KubeObject {
  spec: PlanSpec;
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    persistentVolumeClaims?: PlanPVC[];
    objectCounts?: { kind: string; count: number }[];
    skipped?: { kind: string; reason: string; count: number }[];
    warnings?: string[];
    images?: { source: string; destination: string }[];
    activeMigration?: string;
  };
}

export type MigrationType = "Stage" | "Cutover" | "Rollback";
export type MigrationPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Canceling" | "Canceled";
export type StepPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Skipped";

export interface Step {
  name: string;
  phase: StepPhase;
  started?: string;
  completed?: string;
  message?: string;
  attempts?: number;
  progress?: { done: number; total: number; unit: string };
  hook?: PlanHook;
  log?: string[];
}

export interface VolumeStatus {
  /** the final copy's checksums matched on both sides */
  verified?: boolean;
  namespace: string;
  claim: string;
  targetNamespace: string;
  targetClaim: string;
  phase: string;
  path?: string;
  attempt?: number;
  bytesDone?: number;
  bytesTotal?: number;
  filesDone?: number;
  filesTotal?: number;
  bytesSent?: number;
  filesSkipped?: number;
  message?: string;
}

export interface ImageStatus {
  source: string;
  destination: string;
  digest?: string;
  phase: string;
  layersDone?: number;
  layersTotal?: number;
  bytesDone?: number;
  bytesTotal?: number;
  bytesSent?: number;
  message?: string;
}

export interface KindResults {
  kind: string;
  created?: number;
  updated?: number;
  unchanged?: number;
  skipped?: number;
  failed?: number;
  deleted?: number;
}

export interface ObjectResult {
  kind: string;
  namespace?: string;
  name: string;
  action: string;
  reason?: string;
}

export interface Migration extends KubeObject {
  spec: { plan: string; type: MigrationType; quiesce?: boolean; cancel?: boolean };
  status?: {
    phase?: MigrationPhase;
    itinerary?: Step[];
    conditions?: Condition[];
    results?: KindResults[];
    objects?: ObjectResult[];
    volumes?: VolumeStatus[];
    images?: ImageStatus[];
    errors?: string[];
    startTime?: string;
    completionTime?: string;
    sourceStopped?: string;
    destinationAvailable?: string;
  };
}

export interface Session {
  user: string;
  groups: string[];
  mode: "local" | "token";
  namespace: string;
  csrf: string;
}

export interface NamespacePage {
  items: { name: string; phase: string; claims: number }[];
  total: number;
  /** why the namespaces could not be listed: the page holds only the one named exactly by the search */
  forbidden?: string;
}

export interface Review {
  problems: string[];
  warnings: string[];
  counts: { kind: string; count: number }[];
  changes: { kind: string; namespace?: string; name: string; action: string; diff?: string; note?: string }[];
  diffError?: string;
}

export interface Report {
  migration: string;
  plan: string;
  type: string;
  phase: string;
  started?: string;
  completed?: string;
  steps: { name: string; phase: string; started?: string; completed?: string; seconds?: number; attempts?: number; message?: string }[];
  results?: KindResults[];
  objects?: ObjectResult[];
  volumes?: VolumeStatus[];
  images?: ImageStatus[];
  downtimeSeconds?: number;
  errors?: string[];
}

export interface DebugObject {
  kind: string;
  namespace?: string;
  name: string;
  yaml: string;
  apiVersion?: string;
  events?: DebugEvent[];
  log?: string[];
  kubectl: string;
}

export interface DebugEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  time?: string;
}

export interface Debug {
  migration?: string;
  clusters: { name: string; objects: DebugObject[]; errors?: string[] }[];
}

/** Kinds the event stream carries. */
export type EventKind = "Cluster" | "Plan" | "Migration" | "Repository" | "Hook";
