/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CDM_VERSION_H
#define CDM_VERSION_H

#define CDM_VERSION "0.1.0"

/* CDM_GIT_REVISION: written by the Makefile from `git describe` (a
 * tarball build says "unknown"), in a header so a new commit rebuilds what
 * prints it */
#include "git-revision.h"

#endif
