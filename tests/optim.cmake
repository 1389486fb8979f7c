# Optimizers and learning-rate schedules (OPTIM-SCHED). test_optim itself is registered in
# trainer.cmake; its fixtures (optim_traj.txt) and sched.txt come from fixtures/gen_optim_sched.py.
hp_add_test(test_schedule SOURCES test_schedule.c fixture.c LIBS hp_trainer LABELS optim)
