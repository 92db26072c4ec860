/**
 * The check before inspecting or comparing: a pack must be attached, and to the model that the
 * `engram.modelFolder` setting selects. `ensurePackAttached` shows what is wrong with the actions
 * that fix it ("Attach Pack", "Select Model").
 */
import * as vscode from 'vscode';
import type { EngramServices } from '../services';
import { type PackProblem, packProblem } from './packProblem';

function describeProblem(problem: PackProblem, action: string): string {
  switch (problem.kind) {
    case 'no-model':
      return vscode.l10n.t('{0} needs a model with an attached pack. Select the model folder, then attach a pack trained for it.', action);
    case 'no-pack':
      return vscode.l10n.t('{0} needs an attached pack. Attach a pack, or select the model that your packs were trained for.', action);
    case 'no-pack-for-model':
      return vscode.l10n.t('{0} needs an attached pack, but every pack in the packs folder was trained for another model than {1}. Select the model they were trained for, or train a pack for this one.', action, problem.modelDir);
    case 'other-model':
      return vscode.l10n.t('{0}: pack {1} is attached to the model {2}, but the selected model is {3}. Attach a pack for the selected model, or select the model again.', action, problem.packName, problem.loadedModelDir, problem.selectedModelDir);
  }
}

/** Rounds of "show the problem, run the chosen fix" before giving up; model then pack takes two. */
const maxFixRounds = 3;

/**
 * Resolves true when a pack is attached to the selected model. Otherwise it shows what is
 * missing with "Attach Pack" and "Select Model", runs the chosen command and checks again, so
 * the action continues once the user has fixed the problem.
 *
 * @param action the user-facing name of what needs the pack, such as "Inspect Memory Hits"
 */
export async function ensurePackAttached(services: EngramServices, action: string): Promise<boolean> {
  const check = async (): Promise<PackProblem | undefined> => {
    // Only the pack list distinguishes "no pack" from "no pack for this model", and only without an attached pack.
    if (!services.runtime.state.attached) await services.packs.reload();
    return packProblem(
      services.runtime.state,
      services.settings().modelFolder,
      services.packs.packs.map((pack) => pack.kind),
    );
  };

  const attach = vscode.l10n.t('Attach Pack');
  const select = vscode.l10n.t('Select Model');
  for (let round = 0; round < maxFixRounds; round++) {
    const problem = await check();
    if (!problem) return true;
    const choice = await vscode.window.showWarningMessage(describeProblem(problem, action), attach, select);
    if (choice === attach) await vscode.commands.executeCommand('engram.attachPack');
    else if (choice === select) await vscode.commands.executeCommand('engram.selectModel');
    else return false;
  }
  return (await check()) === undefined;
}
