# Device choice (orchestrator/devsel.c): the spec's device: and cuda:, and the node-local rank.
hp_add_test(test_devsel SOURCES test_devsel.c LIBS hp_orchestrator)
