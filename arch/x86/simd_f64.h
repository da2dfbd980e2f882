/* Double-lane vocabulary for x86 kernels that must round like the double
 * reference kernels (train-mode batchnorm, some activation derivatives):
 * float memory widened to doubles, VDW lanes at a time. Include after simd.h.
 * Macros only; no kernels here. */
#ifndef ET_X86_SIMD_F64_H
#define ET_X86_SIMD_F64_H

#include "simd.h"

#if defined(ET_X86_AVX512)
#define VDW 8
typedef __m512d VD;
typedef __mmask8 VDT;   /* lanes of a float load/store */
typedef __mmask8 VDM;   /* result of a double comparison */
#define VD_TAIL(n) ((__mmask8)((1u << (n)) - 1u))
#define VD_LOADF(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define VD_LOADFM(p, m) _mm512_cvtps_pd(_mm256_maskz_loadu_ps((m), (p)))
#define VD_STOREF(p, v) _mm256_storeu_ps((p), _mm512_cvtpd_ps(v))
#define VD_STOREFM(p, m, v) _mm256_mask_storeu_ps((p), (m), _mm512_cvtpd_ps(v))
#define VD_LOAD(p) _mm512_loadu_pd(p)
#define VD_STORE(p, v) _mm512_storeu_pd((p), (v))
#define VD_SET1(x) _mm512_set1_pd(x)
#define VD_ZERO() _mm512_setzero_pd()
#define VD_ADD(a, b) _mm512_add_pd((a), (b))
#define VD_SUB(a, b) _mm512_sub_pd((a), (b))
#define VD_MUL(a, b) _mm512_mul_pd((a), (b))
#define VD_DIV(a, b) _mm512_div_pd((a), (b))
#define VD_GT(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_GT_OQ)
#define VD_LT(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_LT_OQ)
#define VD_LE(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_LE_OQ)
#define VD_EQ(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_EQ_OQ)
#define VD_MAX(a, b) _mm512_max_pd((a), (b))
#define VD_MIN(a, b) _mm512_min_pd((a), (b))
/* the VDW lanes rounded to floats, and float work on them */
typedef __m256 VDF;
#define VD_TOF(v) _mm512_cvtpd_ps(v)
#define VDF_SET1(x) _mm256_set1_ps(x)
#define VDF_MAX(a, b) _mm256_max_ps((a), (b))
#define VDF_MIN(a, b) _mm256_min_ps((a), (b))
#define VDF_LT_BITS(a, b) ((unsigned)_mm256_cmp_ps_mask((a), (b), _CMP_LT_OQ))
#define VDF_STOREM(p, m, v) _mm256_mask_storeu_ps((p), (m), (v))
#define VDM_AND(a, b) ((__mmask8)((a) & (b)))
#define VDM_BITS(m) ((unsigned)(m))
#define VDM_NOT(a) ((__mmask8)~(a))
/* m ? b : a */
#define VD_BLEND(m, a, b) _mm512_mask_blend_pd((m), (a), (b))
/* Lane l on where bit l of b is set. */
static inline VDM vd_lanes(unsigned b) { return (__mmask8)b; }

#elif defined(ET_X86_AVX2)
#define VDW 4
typedef __m256d VD;
typedef __m128i VDT;
typedef __m256d VDM;
static const int32_t et_x86_tail4_tbl[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
#define VD_TAIL(n) _mm_loadu_si128((const __m128i *)(const void *)(et_x86_tail4_tbl + 4 - (n)))
#define VD_LOADF(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define VD_LOADFM(p, m) _mm256_cvtps_pd(_mm_maskload_ps((p), (m)))
#define VD_STOREF(p, v) _mm_storeu_ps((p), _mm256_cvtpd_ps(v))
#define VD_STOREFM(p, m, v) _mm_maskstore_ps((p), (m), _mm256_cvtpd_ps(v))
#define VD_LOAD(p) _mm256_loadu_pd(p)
#define VD_STORE(p, v) _mm256_storeu_pd((p), (v))
#define VD_SET1(x) _mm256_set1_pd(x)
#define VD_ZERO() _mm256_setzero_pd()
#define VD_ADD(a, b) _mm256_add_pd((a), (b))
#define VD_SUB(a, b) _mm256_sub_pd((a), (b))
#define VD_MUL(a, b) _mm256_mul_pd((a), (b))
#define VD_DIV(a, b) _mm256_div_pd((a), (b))
#define VD_GT(a, b) _mm256_cmp_pd((a), (b), _CMP_GT_OQ)
#define VD_LT(a, b) _mm256_cmp_pd((a), (b), _CMP_LT_OQ)
#define VD_LE(a, b) _mm256_cmp_pd((a), (b), _CMP_LE_OQ)
#define VD_EQ(a, b) _mm256_cmp_pd((a), (b), _CMP_EQ_OQ)
#define VD_MAX(a, b) _mm256_max_pd((a), (b))
#define VD_MIN(a, b) _mm256_min_pd((a), (b))
typedef __m128 VDF;
#define VD_TOF(v) _mm256_cvtpd_ps(v)
#define VDF_SET1(x) _mm_set1_ps(x)
#define VDF_MAX(a, b) _mm_max_ps((a), (b))
#define VDF_MIN(a, b) _mm_min_ps((a), (b))
#define VDF_LT_BITS(a, b) ((unsigned)_mm_movemask_ps(_mm_cmp_ps((a), (b), _CMP_LT_OQ)))
#define VDF_STOREM(p, m, v) _mm_maskstore_ps((p), (m), (v))
#define VDM_AND(a, b) _mm256_and_pd((a), (b))
#define VDM_BITS(m) ((unsigned)_mm256_movemask_pd(m))
#define VDM_NOT(a) _mm256_xor_pd((a), _mm256_castsi256_pd(_mm256_set1_epi64x(-1)))
#define VD_BLEND(m, a, b) _mm256_blendv_pd((a), (b), (m))
static inline VDM vd_lanes(unsigned b) {
    const __m256i sel = _mm256_set_epi64x(8, 4, 2, 1);
    __m256i v = _mm256_set1_epi64x((long long)(b & 15));
    return _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(v, sel), sel));
}
#else
#error "define ET_X86_AVX2 or ET_X86_AVX512 before including simd.h"
#endif

/* Set bits i .. i+n-1 (n <= 8) of a bit mask to the low n bits of b. */
static inline void vd_bits_put(uint8_t *p, size_t i, size_t n, unsigned b) {
    const unsigned keep = (1u << n) - 1u, sh = (unsigned)(i % 8);
    if (sh == 0 && n == 8) { p[i / 8] = (uint8_t)b; return; } /* the usual case: one whole byte */
    const int two = sh + n > 8;
    unsigned w = (unsigned)p[i / 8] | (two ? (unsigned)p[i / 8 + 1] << 8 : 0u);
    w = (w & ~(keep << sh)) | ((b & keep) << sh);
    p[i / 8] = (uint8_t)w;
    if (two) p[i / 8 + 1] = (uint8_t)(w >> 8);
}

/* Lanes for bits i .. i+n-1 (n <= VDW) of a bit mask (bit i of p[i/8]), any
 * i; reads no byte past the one holding bit i+n-1. */
static inline VDM vd_bits(const uint8_t *p, size_t i, size_t n) {
    unsigned b = (unsigned)p[i / 8] >> (i % 8);
    if (i % 8 + n > 8) b |= (unsigned)p[i / 8 + 1] << (8 - i % 8);
    return vd_lanes(b);
}

#endif
