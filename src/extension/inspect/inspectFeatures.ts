/**
 * Creates the inspection features (memory hit colors and hover, Pack Statistics, Playground)
 * and registers their commands.
 */
import type * as vscode from 'vscode';
import { PlaygroundPanel } from '../playground/playgroundPanel';
import type { EngramServices } from '../services';
import { MemoryHits } from './memoryHits';
import { StatisticsPanel } from './statisticsPanel';

export interface InspectFeatures extends vscode.Disposable {
  memoryHits: MemoryHits;
  statistics: StatisticsPanel;
  playground: PlaygroundPanel;
  /** Passes a change of the attached pack or loaded model on to the open panels. */
  onRuntimeChanged(): void;
}

/** `register` wraps a command handler with the extension's error reporting. */
export function createInspectFeatures(services: EngramServices, register: (command: string, handler: (...args: unknown[]) => unknown) => void): InspectFeatures {
  const memoryHits = new MemoryHits(services);
  const statistics = new StatisticsPanel(services);
  const playground = new PlaygroundPanel(services);

  register('engram.inspectMemoryHits', () => memoryHits.inspect());
  register('engram.clearMemoryHits', () => memoryHits.clear());
  register('engram.chooseMemoryHitMetric', () => memoryHits.chooseMetric());
  register('engram.showPackStatistics', () => statistics.show());
  register('engram.openPlayground', () => playground.show());

  return {
    memoryHits,
    statistics,
    playground,
    onRuntimeChanged: () => {
      memoryHits.onRuntimeChanged();
      statistics.onRuntimeChanged();
      playground.onRuntimeChanged();
    },
    dispose: () => {
      memoryHits.dispose();
      statistics.dispose();
      playground.dispose();
    },
  };
}
