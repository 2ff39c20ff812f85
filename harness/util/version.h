/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CDM_VERSION_H
#define CDM_VERSION_H

#define CDM_VERSION "0.1.0"

/* set by the Makefile from `git describe`; a tarball build says so */
#ifndef CDM_GIT_REVISION
#define CDM_GIT_REVISION "unknown"
#endif

#endif
