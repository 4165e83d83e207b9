// The shape of bench/results.json: the machine and every figure.

import type { MachineInfo } from './machine.js';
import type { BlockCostRow } from './fig-block-cost.js';
import type { CaptureRow } from './fig-capture.js';
import type { CapacityRow, FloodRow } from './fig-hostile.js';
import type { LeakRow } from './fig-leak.js';
import type { MemoryFigure } from './fig-memory.js';
import type { ScaleRow } from './fig-scale.js';
import type { ScanTypeRow } from './fig-scan-types.js';
import type { FalseBlocksRow } from './fig-false-blocks.js';
import type { StartupRow } from './fig-startup.js';
import type { TriggerRow } from './fig-trigger.js';
import type { FleetFigure } from './fig-fleet.js';
import type { LoneProbeRow } from './fig-lone-probe.js';
import type { MasscanRow } from './fig-masscan.js';
import type { RestartRow } from './fig-restart.js';

export interface BenchResults {
  readonly machine: MachineInfo;
  readonly quick: boolean;
  readonly repetitions: number;
  readonly durationSeconds: number;
  readonly figures: {
    readonly triggerToBlackhole: TriggerRow[];
    readonly scanTypes: ScanTypeRow[];
    readonly leak: LeakRow[];
    readonly scale: ScaleRow[];
    readonly blockCost: BlockCostRow[];
    readonly memory: MemoryFigure;
    readonly startup: StartupRow[];
    readonly capturePath: CaptureRow[];
    /** Fleet propagation and scrape cost (bench/fig-fleet.ts); absent in older results. */
    readonly fleet?: FleetFigure;
    /** Absent in results written before these figures existed. */
    readonly flood?: FloodRow | null;
    readonly capacity?: CapacityRow | null;
    /** Absent in results written before this figure existed. */
    readonly loneProbe?: LoneProbeRow[];
    readonly masscan?: MasscanRow[];
    readonly restart?: RestartRow[];
    readonly falseBlocks?: FalseBlocksRow[];
  };
  /** Figures that could not be measured, with the reason (the rest still ran). */
  readonly errors: Record<string, string>;
}

export const FIGURE_NAMES = ['triggerToBlackhole', 'scanTypes', 'leak', 'scale', 'blockCost', 'memory', 'startup', 'capturePath', 'flood', 'capacity', 'loneProbe', 'masscan', 'restart', 'falseBlocks'] as const;
