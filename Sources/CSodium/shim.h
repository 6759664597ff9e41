#ifndef LABCTL_CSODIUM_SHIM_H
#define LABCTL_CSODIUM_SHIM_H
#include <sodium.h>
#endif
