/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copyright © 2026 The gsvm authors
 */
#ifndef _GSVM_INTERNAL_H_
#define _GSVM_INTERNAL_H_

#include <linux/types.h>

#include <kunit/visibility.h>

struct dentry;
struct gsvm_mirror;
struct gsvm_range;
struct mmu_interval_notifier_finish;
struct mmu_interval_notifier_ops;

void gsvm_range_destroy(struct gsvm_range *range);

extern bool gsvm_xe_busy_fallback;
extern bool gsvm_two_pass;

int gsvm_svm_init(struct gsvm_mirror *mirror, u64 svm_end);
void gsvm_svm_fini(struct gsvm_mirror *mirror);
int gsvm_svm_fault(struct gsvm_mirror *mirror, u64 addr, bool write);
void gsvm_svm_module_init(struct dentry *dir);

#if IS_ENABLED(CONFIG_KUNIT)
struct mmu_interval_notifier_finish *
gsvm_range_inval_pass1(struct gsvm_range *range, bool two_pass);
void gsvm_range_inval_pass2(struct gsvm_range *range);
extern const struct mmu_interval_notifier_ops gsvm_range_notifier_ops;
#endif

#endif /* _GSVM_INTERNAL_H_ */
