/* One vector vocabulary for the x86 kernel templates: the same kernel source
 * compiles to AVX2 (8 lanes, ET_X86_AVX2) or AVX-512 (16 lanes,
 * ET_X86_AVX512). Macros and inline helpers only; no kernels here. */
#ifndef ET_X86_SIMD_H
#define ET_X86_SIMD_H

#include <immintrin.h>
#include <stdint.h>

#if defined(ET_X86_AVX512)
#define VW 16
#define ET_FN(name) name##__avx512
#define ET_ISA_STR "avx512"
typedef __m512 V;
typedef __mmask16 VM;
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps((p), (v))
#define V_SET1(x) _mm512_set1_ps(x)
#define V_ZERO() _mm512_setzero_ps()
#define V_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define V_ADD(a, b) _mm512_add_ps((a), (b))
#define V_SUB(a, b) _mm512_sub_ps((a), (b))
#define V_MUL(a, b) _mm512_mul_ps((a), (b))
#define V_DIV(a, b) _mm512_div_ps((a), (b))
#define V_MAX(a, b) _mm512_max_ps((a), (b))
#define V_MIN(a, b) _mm512_min_ps((a), (b))
#define V_AND(a, b) _mm512_and_ps((a), (b))
#define V_OR(a, b) _mm512_or_ps((a), (b))
#define V_XOR(a, b) _mm512_xor_ps((a), (b))
#define V_ANDNOT(a, b) _mm512_andnot_ps((a), (b)) /* ~a & b */
/* Lanes [0, n) for n in [0, VW]. */
#define V_TAIL(n) ((__mmask16)((1u << (n)) - 1u))
#define V_LOADM(p, m) _mm512_maskz_loadu_ps((m), (p))
#define V_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define V_LT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define V_GE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GE_OQ)
#define V_UNORD(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
/* m ? b : a */
#define V_BLEND(m, a, b) _mm512_mask_blend_ps((m), (a), (b))
#define V_ROUND(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
/* 2^n for integral n in [-126, 127] held in a float vector. */
#define V_POW2I(n) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))
static inline float v_hsum(V v) { return _mm512_reduce_add_ps(v); }
static inline float v_hmax(V v) { return _mm512_reduce_max_ps(v); }

#elif defined(ET_X86_AVX2)
#define VW 8
#define ET_FN(name) name##__avx2
#define ET_ISA_STR "avx2"
typedef __m256 V;
typedef __m256 VM;
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps((p), (v))
#define V_SET1(x) _mm256_set1_ps(x)
#define V_ZERO() _mm256_setzero_ps()
#define V_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_ADD(a, b) _mm256_add_ps((a), (b))
#define V_SUB(a, b) _mm256_sub_ps((a), (b))
#define V_MUL(a, b) _mm256_mul_ps((a), (b))
#define V_DIV(a, b) _mm256_div_ps((a), (b))
#define V_MAX(a, b) _mm256_max_ps((a), (b))
#define V_MIN(a, b) _mm256_min_ps((a), (b))
#define V_AND(a, b) _mm256_and_ps((a), (b))
#define V_OR(a, b) _mm256_or_ps((a), (b))
#define V_XOR(a, b) _mm256_xor_ps((a), (b))
#define V_ANDNOT(a, b) _mm256_andnot_ps((a), (b))
static const int32_t et_x86_tail_tbl[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
#define V_TAIL(n) _mm256_castsi256_ps(_mm256_loadu_si256((const __m256i *)(const void *)(et_x86_tail_tbl + 8 - (n))))
/* maskload never touches memory of disabled lanes, so tails cannot fault. */
#define V_LOADM(p, m) _mm256_maskload_ps((p), _mm256_castps_si256(m))
#define V_STOREM(p, m, v) _mm256_maskstore_ps((p), _mm256_castps_si256(m), (v))
#define V_LT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define V_GE(a, b) _mm256_cmp_ps((a), (b), _CMP_GE_OQ)
#define V_UNORD(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
#define V_BLEND(m, a, b) _mm256_blendv_ps((a), (b), (m))
#define V_ROUND(x) _mm256_round_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_POW2I(n) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))
static inline float v_hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float v_hmax(V v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#else
#error "define ET_X86_AVX2 or ET_X86_AVX512 before including simd.h"
#endif

#endif
