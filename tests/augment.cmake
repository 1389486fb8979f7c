# Data-augmentation area: the CIFAR-10 binary reader, batch augmentation (flip, shift, cutout) and mixup.
hp_add_test(test_cifar SOURCES test_cifar.c LIBS hp_trainer LABELS data)
hp_add_test(test_augment SOURCES test_augment.c LIBS hp_trainer ${M_LIB} LABELS data)
