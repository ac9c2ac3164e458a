#!/bin/bash
# Example SLURM batch script: a long HMC run that checkpoints before the walltime and is
# resubmitted until done. `--signal=B:USR1@300` makes SLURM send SIGUSR1 to the batch shell
# 300 s before the time limit; the shell forwards it to latflow, which writes its checkpoint
# and exits with status 3; the script then resubmits itself and the next job continues with
# --resume (bitwise the same chain as an uninterrupted run).
#SBATCH --job-name=latflow-hmc
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=16
#SBATCH --time=04:00:00
#SBATCH --signal=B:USR1@300
#SBATCH --output=latflow-%j.log

set -u
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
export OMP_PROC_BIND=close OMP_PLACES=cores
LATFLOW=${LATFLOW:-$HOME/latflow/build/latflow}
RUN=${RUN:-$SCRATCH/su3-b6.0-16x16x16x32}

if [ -f "$RUN/run.json" ]; then
  args=(hmc --resume "$RUN")
else
  args=(hmc --group su3 --lattice 16x16x16x32 --beta 6.0 --integrator omelyan --steps 12
        --ntraj 5000 --therm 200 --save-every 20 --checkpoint-every 10
        --flow-time 3.0 --flow-every 20 --out "$RUN" --json)
fi

"$LATFLOW" "${args[@]}" &
pid=$!
got_usr1=0
trap 'got_usr1=1; kill -USR1 $pid' USR1
wait $pid; rc=$?
# `wait` returns early when the USR1 trap runs: wait again for latflow's own exit status
# (bash keeps it until collected, also if latflow has already finished)
if [ $got_usr1 -eq 1 ]; then wait $pid; rc=$?; fi
case $rc in
  0) echo "run complete: $RUN" ;;
  3) echo "checkpointed before the walltime; resubmitting"; sbatch "$0" ;;
  *) echo "latflow failed with status $rc; see the log"; exit $rc ;;
esac
