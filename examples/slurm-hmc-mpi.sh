#!/bin/bash
# Example SLURM batch script: domain-decomposed HMC on several nodes (docs/parallel.md),
# checkpointed before the walltime and resubmitted until done. As examples/slurm-hmc.sh, but
# latflow runs under srun: SLURM sends SIGUSR1 to the batch shell 300 s before the limit,
# the shell forwards it to srun, srun relays it to the tasks, and the ranks (which reduce
# their stop flags after every trajectory) write one checkpoint together and exit with 3.
# The chain does not depend on the rank count: a resubmission may use other --nodes.
#SBATCH --job-name=latflow-hmc-mpi
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=12:00:00
#SBATCH --signal=B:USR1@300
#SBATCH --output=latflow-%j.log

set -u
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
export OMP_PROC_BIND=close OMP_PLACES=cores
LATFLOW=${LATFLOW:-$HOME/latflow/build/latflow}
RUN=${RUN:-$SCRATCH/su3-b6.0-32x32x32x64}

if [ -f "$RUN/run.json" ]; then
  args=(hmc --resume "$RUN")
else
  # 16 ranks: automatic grid 1x2x2x4 (local 32x16x16x16); or give --grid
  args=(hmc --group su3 --lattice 32x32x32x64 --beta 6.0 --integrator omelyan --steps 12
        --ntraj 2000 --therm 200 --save-every 20 --checkpoint-every 10 --out "$RUN" --json)
fi

srun "$LATFLOW" "${args[@]}" &
pid=$!
got_usr1=0
trap 'got_usr1=1; kill -USR1 $pid' USR1
wait $pid; rc=$?
if [ $got_usr1 -eq 1 ]; then wait $pid; rc=$?; fi
case $rc in
  0) echo "run complete: $RUN" ;;
  3) echo "checkpointed before the walltime; resubmitting"; sbatch "$0" ;;
  *) echo "latflow failed with status $rc; see the log"; exit $rc ;;
esac
