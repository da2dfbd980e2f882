/* The x86 kernel tables as seen by src/dispatch.c, and CPU detection. Only
 * dispatch.c includes this; kernels themselves are private to arch/x86. */
#ifndef ET_ARCH_X86_H
#define ET_ARCH_X86_H

#include "dispatch.h"

/* 0: neither, 2: AVX2+FMA (with OS support), 3: also AVX-512 F/BW/DQ/VL. */
int et_x86_level(void);
const et_kernels *et_kernels__avx2(void);
const et_kernels *et_kernels__avx512(void);
/* Their backward (training) tables, arch/x86/grad_table_tmpl.h. */
const et_grad_kernels *et_grad_kernels__avx2(void);
const et_grad_kernels *et_grad_kernels__avx512(void);
/* The vector exp alone (tests sweep it against double precision). */
void et_f32_exp__avx2(size_t n, const float *x, float *y);
void et_f32_exp__avx512(size_t n, const float *x, float *y);

#endif
