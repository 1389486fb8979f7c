# The YAML spec parser (orchestrator/spec*.c): good and bad specs under tests/spec/, the examples
# under sweeps/. test_spec: the base schema (data, MLP model, SGD, train, search);
# test_spec_cnn: the CNN keys (layer types, optimizers, schedules, augmentation, CIFAR-10);
# test_spec_search: search.params, promote stages, a trial's spec, layer names, trainer:.
# The parser's sources are compiled in directly (as test_search does with search.c), so that the
# tests need neither MPI nor the rest of hp_orchestrator.
set(HP_SPEC_PARSER_SOURCES spec.c spec_yaml.c spec_yaml_edit.c spec_model.c spec_train.c spec_dump.c spec_params.c spec_external.c)
list(TRANSFORM HP_SPEC_PARSER_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/orchestrator/)
add_library(hp_spec_parser_test STATIC ${HP_SPEC_PARSER_SOURCES})
target_include_directories(hp_spec_parser_test PUBLIC ${CMAKE_SOURCE_DIR}/orchestrator)
target_link_libraries(hp_spec_parser_test PUBLIC hp_trainer PkgConfig::YAML)
hp_add_test(test_spec SOURCES test_spec.c spec_helpers.c LIBS hp_spec_parser_test)
hp_add_test(test_spec_cnn SOURCES test_spec_cnn.c spec_helpers.c LIBS hp_spec_parser_test)
hp_add_test(test_spec_search SOURCES test_spec_search.c spec_helpers.c LIBS hp_spec_parser_test)
# dataload.c (a spec's data section -> train/val/test splits), on synthetic CIFAR-10 files.
hp_add_test(test_dataload SOURCES test_dataload.c ${CMAKE_SOURCE_DIR}/orchestrator/dataload.c
            LIBS hp_spec_parser_test)
