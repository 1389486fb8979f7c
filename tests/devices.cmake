# Device choice (orchestrator/device_pick.c): the spec's device: and cuda:, and the node-local rank.
hp_add_test(test_device_pick SOURCES test_device_pick.c LIBS hp_orchestrator)
