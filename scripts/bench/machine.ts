/** The machine the figures come from. */
import { readFileSync } from "node:fs";
import { arch, availableParallelism, cpus, release, type } from "node:os";

export interface MachineInfo {
  os: string;
  arch: string;
  cpu: string;
  cores: number;
  bun: string;
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
    if (pretty) return `${pretty} (${type()} ${release()})`;
  } catch {
    // not Linux, or no os-release
  }
  return `${type()} ${release()}`;
}

function cpuModel(): string {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const model = /^(?:model name|Model|Hardware|cpu model)\s*:\s*(.+)$/m.exec(info)?.[1];
    if (model) return model.trim();
  } catch {
    // no /proc
  }
  return cpus()[0]?.model?.trim() || "unknown";
}

export function machineInfo(): MachineInfo {
  return {
    os: osName(),
    arch: arch(),
    cpu: cpuModel(),
    cores: availableParallelism(),
    bun: `${Bun.version} (${Bun.revision.slice(0, 9)})`,
  };
}
