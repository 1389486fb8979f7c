# The YAML spec parser (orchestrator/spec.c): good and bad specs under tests/spec/.
hp_add_test(test_spec SOURCES test_spec.c LIBS hp_orchestrator)
